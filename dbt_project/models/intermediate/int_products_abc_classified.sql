with

products as (

    select sku from {{ ref('stg_raw__products') }}

),

demand as (

    select * from {{ ref('int_demand_months_zero_filled') }}

),

trailing_12_months as (

    select
        sku,
        sum(units) as units,
        sum(net_revenue) as net_revenue

    from demand
    where month >= {{ add_months(cycle_start(), -12) }}
    group by sku

),

sku_revenue as (

    select
        products.sku,
        coalesce(trailing_12_months.units, 0) as trailing_12m_units,
        coalesce(trailing_12_months.net_revenue, 0) as trailing_12m_revenue

    from products
    left join trailing_12_months
        on trailing_12_months.sku = products.sku

),

ranked as (

    -- Shares come from running sums of revenue, not sums of shares, so a boundary such as
    -- exactly 80 % is hit exactly and not missed by rounding.
    select
        sku,
        trailing_12m_units,
        trailing_12m_revenue,
        sum(trailing_12m_revenue) over () as total_revenue,
        sum(trailing_12m_revenue) over (
            order by trailing_12m_revenue desc, sku
            rows between unbounded preceding and current row
        ) as cumulative_revenue,
        coalesce(sum(trailing_12m_revenue) over (
            order by trailing_12m_revenue desc, sku
            rows between unbounded preceding and 1 preceding
        ), 0) as revenue_before

    from sku_revenue

),

shares as (

    select
        sku,
        trailing_12m_units,
        trailing_12m_revenue,
        case when total_revenue > 0 then trailing_12m_revenue / total_revenue else 0 end as revenue_share,
        case when total_revenue > 0 then cumulative_revenue / total_revenue else 0 end as cumulative_revenue_share,
        case when total_revenue > 0 then revenue_before / total_revenue else 0 end as share_before

    from ranked

),

classified as (

    select
        sku,
        trailing_12m_units,
        trailing_12m_revenue,
        revenue_share,
        cumulative_revenue_share,
        -- Judged on the share before the SKU, so the SKU that crosses the A threshold is still A:
        -- A then covers at least the configured share of revenue, as planners read "top 80 %".
        case
            when trailing_12m_revenue <= 0 then 'C'
            when share_before < {{ var('abc_a_share') }} then 'A'
            when share_before < {{ var('abc_b_share') }} then 'B'
            else 'C'
        end as abc_class

    from shares

)

select * from classified
