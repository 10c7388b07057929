{#- Month arithmetic on top of dbt's cross-database macros. Engines differ in what date_trunc and
    dateadd return (DuckDB gives a timestamp), so every month is cast back to a plain date: joins
    on `month` then compare like with like everywhere. -#}

{% macro type_date() -%}
    {{ return(api.Column.translate_type('date')) }}
{%- endmacro %}


{% macro month_start(date_expression) -%}
    {{ return(dbt.cast(dbt.date_trunc('month', date_expression), type_date()) | trim) }}
{%- endmacro %}


{% macro add_months(month_expression, months) -%}
    {{ return(dbt.cast(dbt.dateadd('month', months, month_expression), type_date()) | trim) }}
{%- endmacro %}


{% macro months_between(first_month, second_month) -%}
    {{ return(dbt.datediff(first_month, second_month, 'month') | trim) }}
{%- endmacro %}
