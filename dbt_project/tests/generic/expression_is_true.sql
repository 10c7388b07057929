{#- Fails with every row where the invariant does not hold. A null result counts as a failure:
    an invariant that cannot be evaluated is not shown to hold. -#}
{% test expression_is_true(model, expression) %}
    select *
    from {{ model }}
    where not coalesce({{ expression }}, false)
{% endtest %}
