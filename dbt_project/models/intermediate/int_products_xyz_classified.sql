with

products as (

    select sku from {{ ref('stg_raw__products') }}

),

demand as (

    select * from {{ ref('int_demand_months_zero_filled') }}

),

sku_months as (

    select
        sku,
        month,
        sum(units) as units,
        max(case when is_stockout then 1 else 0 end) as stockout_flag,
        max(case when is_missing then 1 else 0 end) as missing_flag

    from demand
    where month >= {{ add_months(cycle_start(), -12) }}
    group by sku, month

),

demand_stats as (

    -- A stockout month records what could be shipped, not what was asked for: scoring it would
    -- make a steady seller look erratic. A missing month records nothing at all.
    select
        sku,
        count(*) as scoreable_months,
        avg(units) as demand_mean,
        stddev_pop(units) as demand_stddev

    from sku_months
    where stockout_flag = 0
        and missing_flag = 0
    group by sku

),

scored as (

    select
        products.sku,
        coalesce(demand_stats.scoreable_months, 0) as scoreable_months,
        demand_stats.demand_mean,
        case
            when demand_stats.scoreable_months >= {{ var('xyz_min_months') }} and demand_stats.demand_mean > 0
                then demand_stats.demand_stddev / demand_stats.demand_mean
        end as demand_cv

    from products
    left join demand_stats
        on demand_stats.sku = products.sku

),

classified as (

    select
        sku,
        scoreable_months,
        demand_mean,
        demand_cv,
        case
            when demand_cv is null then 'Z'
            when demand_cv < {{ var('xyz_x_cv') }} then 'X'
            when demand_cv < {{ var('xyz_y_cv') }} then 'Y'
            else 'Z'
        end as xyz_class

    from scored

)

select * from classified
