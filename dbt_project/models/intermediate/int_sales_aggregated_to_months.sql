with

sales as (

    select
        sku,
        channel,
        {{ month_start('order_date') }} as month,
        quantity,
        net_revenue

    from {{ ref('stg_raw__sales') }}

),

aggregated as (

    select
        sku,
        channel,
        month,
        sum(quantity) as units,
        sum(net_revenue) as net_revenue,
        count(*) as order_lines

    from sales
    group by sku, channel, month

)

select * from aggregated
