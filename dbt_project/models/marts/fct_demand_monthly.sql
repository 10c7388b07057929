with

demand as (

    select * from {{ ref('int_demand_months_zero_filled') }}

),

products as (

    select * from {{ ref('stg_raw__products') }}

),

final as (

    select
        {{ cycle_start() }} as cycle,
        demand.sku,
        demand.channel,
        products.family,
        demand.month,
        demand.units,
        demand.net_revenue,
        demand.order_lines,
        demand.is_zero_filled,
        demand.is_missing,
        demand.is_stockout

    from demand
    inner join products
        on products.sku = demand.sku

)

select * from final
