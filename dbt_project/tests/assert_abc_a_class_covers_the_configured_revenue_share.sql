-- ABC judges each SKU on the share ranked before it, so the A class always reaches the configured
-- share of revenue; falling short means the ranking or the shares are wrong.
with

classes as (

    select
        sum(case when abc_class = 'A' then revenue_share else 0 end) as a_revenue_share,
        sum(revenue_share) as total_revenue_share

    from {{ ref('dim_products') }}

)

select *
from classes
where total_revenue_share > 0
    and a_revenue_share < {{ var('abc_a_share') }} - 0.000001
