{#- The cycle var arrives from the Dagster partition key (`2026-11-01`) or by hand (`2026-11`).
    It is checked here, once, so that a typo fails compilation with one clear message instead of
    silently cutting history at the wrong date. -#}
{% macro cycle_month() -%}
    {%- set text = var('cycle') | string | trim -%}
    {%- set match = modules.re.match('^([0-9]{4})-([0-9]{2})(-01)?$', text) -%}
    {%- if not match or not (1 <= (match.group(2) | int) <= 12) -%}
        {{ exceptions.raise_compiler_error("var 'cycle' must be the first day of a month (YYYY-MM-01 or YYYY-MM), got '" ~ text ~ "'") }}
    {%- endif -%}
    {{ return(match.group(1) ~ '-' ~ match.group(2) ~ '-01') }}
{%- endmacro %}


{#- The cycle start as a SQL date: the first day nothing may be dated on or after in the fact base. -#}
{% macro cycle_start() -%}
    {{ return(dbt.cast("'" ~ cycle_month() ~ "'", type_date()) | trim) }}
{%- endmacro %}
