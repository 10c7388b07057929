{#- Folders name their schema exactly (`staging`, `intermediate`, `marts`) because publishing and
    BI read `marts.<table>`; dbt's default would prefix the target schema (`main_marts`). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
