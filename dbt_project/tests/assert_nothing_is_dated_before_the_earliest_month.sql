{{ config(meta={'dagster': {'ref': {'name': 'dim_calendar'}}}) }}
{#- Guards the calendar: nothing in it or in the facts lies before var('earliest_month'), the
    earliest input date (SOP_HISTORY_YEARS before the cycle). Ingest rejects older dates, so a row
    here means data reached the raw tables another way; left alone, a sale dated 1970 would stretch
    every SKU's history by decades of zero demand and change every plan. One row per offending model. -#}
{%- set earliest_month = dbt.cast("'" ~ var('earliest_month') ~ "'", type_date()) -%}

with

first_months as (

    select 'dim_calendar' as model, min(month) as first_month from {{ ref('dim_calendar') }}

    union all

    select 'fct_demand_monthly' as model, min(month) as first_month from {{ ref('fct_demand_monthly') }}

    union all

    select 'fct_inventory_position' as model, min({{ month_start('snapshot_date') }}) as first_month
    from {{ ref('fct_inventory_position') }}

)

select
    model,
    first_month,
    {{ earliest_month }} as earliest_month

from first_months
where first_month < {{ earliest_month }}
