{#- Models land in exactly the schema they configure (`marts`, not `main_marts`): the schema names are
    part of the analysts' contract. Models without a custom schema use the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
