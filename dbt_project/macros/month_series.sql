{#- A series of consecutive months is the one thing without a portable SQL spelling (DuckDB's
    range(), Postgres' generate_series, Spark's sequence all differ), so it is dispatched: an
    adapter may override it, and the default builds the offsets from a cross join of digits,
    which every engine runs. -#}
{% macro month_series(first_month, months) -%}
    {{ return(adapter.dispatch('month_series', 'sop_pipeline')(first_month, months)) }}
{%- endmacro %}


{% macro default__month_series(first_month, months) -%}
    {%- set months = months | int -%}
    {%- if months < 1 -%}
        {{ exceptions.raise_compiler_error("month_series needs at least one month, got " ~ months) }}
    {%- endif -%}
    {%- set places = (months - 1) | string | length -%}
    select {{ add_months(first_month, 'month_offset') }} as month
    from (
        select
            {%- for place in range(places) %}
            digits_{{ place }}.digit * {{ 10 ** place }}{{ ' +' if not loop.last }}
            {%- endfor %} as month_offset
        from
            {%- for place in range(places) %}
            (
                select 0 as digit union all select 1 union all select 2 union all select 3
                union all select 4 union all select 5 union all select 6 union all select 7
                union all select 8 union all select 9
            ) as digits_{{ place }}{{ ' cross join' if not loop.last }}
            {%- endfor %}
    ) as offsets
    where month_offset < {{ months }}
{%- endmacro %}
