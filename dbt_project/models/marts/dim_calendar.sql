{%- set horizon = var('horizon') | int -%}
{%- set frozen_months = var('frozen_months') | int -%}
{%- set flexible_months = var('flexible_months') | int -%}

with

months as (

    select * from {{ ref('int_months_enumerated') }}

),

monthly_sales as (

    select * from {{ ref('int_sales_aggregated_to_months') }}

),

first_history_month as (

    select coalesce(min(month), {{ cycle_start() }}) as first_month from monthly_sales

),

calendar as (

    select
        months.month,
        {{ months_between(cycle_start(), 'months.month') }} as months_from_cycle

    from months
    cross join first_history_month
    where months.month >= first_history_month.first_month

),

positioned as (

    -- Horizon month 1 is the cycle month (months_from_cycle 0), so the fences below read exactly
    -- as documented: horizon months 1..frozen_months frozen, up to flexible_months flexible.
    select
        month,
        months_from_cycle,
        case when months_from_cycle >= 0 then months_from_cycle + 1 end as horizon_month

    from calendar
    where months_from_cycle < {{ horizon }}

),

final as (

    select
        {{ cycle_start() }} as cycle,
        month,
        {{ dbt.cast('extract(year from positioned.month)', dbt.type_int()) }} as year,
        {{ dbt.cast('extract(quarter from positioned.month)', dbt.type_int()) }} as quarter,
        {{ dbt.cast('extract(month from positioned.month)', dbt.type_int()) }} as month_of_year,
        months_from_cycle,
        horizon_month is null as is_history,
        horizon_month,
        -- The one definition of the time fences: the demand plan and its frozen-change flag read
        -- this column rather than computing their own.
        case
            when horizon_month is null then 'history'
            when horizon_month <= {{ frozen_months }} then 'frozen'
            when horizon_month <= {{ flexible_months }} then 'flexible'
            else 'strategic'
        end as time_fence

    from positioned

)

select * from final
