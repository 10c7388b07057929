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

final as (

    select
        {{ cycle_start() }} as cycle,
        calendar.month,
        {{ dbt.cast('extract(year from calendar.month)', dbt.type_int()) }} as year,
        {{ dbt.cast('extract(quarter from calendar.month)', dbt.type_int()) }} as quarter,
        {{ dbt.cast('extract(month from calendar.month)', dbt.type_int()) }} as month_of_year,
        calendar.months_from_cycle,
        calendar.months_from_cycle < 0 as is_history,
        case when calendar.months_from_cycle >= 0 then calendar.months_from_cycle + 1 end as horizon_month,
        case
            when calendar.months_from_cycle < 0 then 'history'
            when calendar.months_from_cycle < {{ frozen_months }} then 'frozen'
            when calendar.months_from_cycle < {{ flexible_months }} then 'flexible'
            else 'strategic'
        end as time_fence

    from calendar
    where calendar.months_from_cycle < {{ horizon }}

)

select * from final
