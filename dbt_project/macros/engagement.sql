{#- A video's engagements from its counters. YouTube never exposes shares and X never exposes saves: counting
    them as 0 keeps those platforms' engagement comparable instead of always null; hidden likes or comments still
    make it unknown. -#}
{% macro engagements(prefix='') -%}
{{ prefix }}likes + {{ prefix }}comments + coalesce({{ prefix }}shares, 0) + coalesce({{ prefix }}saves, 0)
{%- endmacro %}
