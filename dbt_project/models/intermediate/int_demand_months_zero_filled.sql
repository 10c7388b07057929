with

products as (

    select * from {{ ref('stg_raw__products') }}

),

monthly_sales as (

    select * from {{ ref('int_sales_aggregated_to_months') }}

),

month_end_stock as (

    select * from {{ ref('int_inventory_aggregated_to_months') }}

),

months as (

    select * from {{ ref('int_months_enumerated') }}

),

missing_months as (

    select sku, month from {{ ref('stg_raw__missing_months') }}

),

data_start as (

    select min(month) as first_month from monthly_sales

),

sku_sales_span as (

    select
        sku,
        min(month) as first_sale_month,
        max(month) as last_sale_month

    from monthly_sales
    group by sku

),

life_bounds as (

    -- A SKU launched before the sales data begins is not padded with months nobody recorded.
    select
        products.sku,
        greatest({{ month_start('products.launch_date') }}, data_start.first_month) as launch_month,
        least(
            coalesce({{ month_start('products.discontinue_date') }}, {{ add_months(cycle_start(), -1) }}),
            {{ add_months(cycle_start(), -1) }}
        ) as last_life_month

    from products
    cross join data_start

),

sku_life as (

    -- Months with real sales always belong to the life, even when they contradict the launch
    -- or discontinue date, so the fact's units always add up to the order lines.
    select
        life_bounds.sku,
        least(life_bounds.launch_month, sku_sales_span.first_sale_month) as first_month,
        greatest(life_bounds.last_life_month, sku_sales_span.last_sale_month) as last_month

    from life_bounds
    inner join sku_sales_span
        on sku_sales_span.sku = life_bounds.sku

),

sku_channels as (

    select distinct
        sku,
        channel

    from monthly_sales

),

spine as (

    select
        sku_channels.sku,
        sku_channels.channel,
        months.month

    from sku_channels
    inner join sku_life
        on sku_life.sku = sku_channels.sku
    inner join months
        on months.month >= sku_life.first_month
        and months.month <= sku_life.last_month

),

zero_filled as (

    -- A month listed as missing is unknown, not zero: its demand stays null (even over the order
    -- lines of a partial export), so sums skip it and nothing downstream reads it as no sales.
    select
        spine.sku,
        spine.channel,
        spine.month,
        case when missing_months.sku is null then coalesce(monthly_sales.units, 0) end as units,
        case when missing_months.sku is null then coalesce(monthly_sales.net_revenue, 0) end as net_revenue,
        case when missing_months.sku is null then coalesce(monthly_sales.order_lines, 0) end as order_lines,
        missing_months.sku is null and monthly_sales.sku is null as is_zero_filled,
        missing_months.sku is not null as is_missing,
        coalesce(month_end_stock.is_stockout, false) as is_stockout

    from spine
    left join monthly_sales
        on monthly_sales.sku = spine.sku
        and monthly_sales.channel = spine.channel
        and monthly_sales.month = spine.month
    left join month_end_stock
        on month_end_stock.sku = spine.sku
        and month_end_stock.month = spine.month
    left join missing_months
        on missing_months.sku = spine.sku
        and missing_months.month = spine.month

)

select * from zero_filled
