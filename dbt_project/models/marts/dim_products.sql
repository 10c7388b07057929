with

products as (

    select * from {{ ref('stg_raw__products') }}

),

demand as (

    select * from {{ ref('int_demand_months_zero_filled') }}

),

abc as (

    select * from {{ ref('int_products_abc_classified') }}

),

xyz as (

    select * from {{ ref('int_products_xyz_classified') }}

),

history as (

    -- Months whose sales are unknown tell nothing about the SKU, so they do not make it less new.
    select
        sku,
        count(distinct case when not is_missing then month end) as months_of_history

    from demand
    group by sku

),

final as (

    select
        {{ cycle_start() }} as cycle,
        products.sku,
        products.product_name,
        products.family,
        products.supplier,
        products.status,
        products.unit_cost,
        products.unit_price,
        products.lead_time_days,
        -- Whole planning months: a lead time of 31 days already needs the order a second month ahead.
        {{ dbt.cast('ceil(products.lead_time_days / 30.0)', dbt.type_int()) }} as lead_time_months,
        products.moq,
        products.order_multiple,
        products.launch_date,
        products.discontinue_date,
        coalesce(history.months_of_history, 0) as months_of_history,
        coalesce(history.months_of_history, 0) < {{ var('new_sku_months') }} as is_new,
        abc.trailing_12m_units,
        abc.trailing_12m_revenue,
        abc.revenue_share,
        abc.cumulative_revenue_share,
        abc.abc_class,
        xyz.demand_cv,
        xyz.xyz_class,
        {{ dbt.concat(['abc.abc_class', 'xyz.xyz_class']) }} as segment

    from products
    inner join abc
        on abc.sku = products.sku
    inner join xyz
        on xyz.sku = products.sku
    left join history
        on history.sku = products.sku

)

select * from final
