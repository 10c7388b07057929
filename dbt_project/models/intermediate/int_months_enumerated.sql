{#- Enumerated backwards from the cycle rather than forwards from the data, so the number of months
    is known when the SQL is compiled; dim_calendar trims it to the months that matter. -#}
{%- set max_history_months = var('max_history_months') | int -%}

with

months as (

    {{ month_series(
        add_months(cycle_start(), -max_history_months),
        max_history_months + (var('horizon') | int)
    ) }}

)

select month from months
