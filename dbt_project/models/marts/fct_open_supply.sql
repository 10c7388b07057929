with

open_lines as (

    select * from {{ ref('int_purchase_orders_filtered_to_open') }}

),

products as (

    select * from {{ ref('stg_raw__products') }}

),

lines as (

    select
        open_lines.sku,
        products.supplier,
        -- Goods already overdue can arrive no earlier than today: planning them in a past month
        -- would hide them from the horizon, so they count as arriving in the cycle month.
        case
            when open_lines.is_overdue then {{ cycle_start() }}
            else {{ month_start('open_lines.expected_date') }}
        end as expected_month,
        open_lines.open_units,
        case when open_lines.is_overdue then open_lines.open_units else 0 end as late_units,
        open_lines.open_value

    from open_lines
    inner join products
        on products.sku = open_lines.sku

),

final as (

    select
        {{ cycle_start() }} as cycle,
        sku,
        supplier,
        expected_month,
        sum(open_units) as open_units,
        sum(late_units) as late_units,
        sum(open_value) as open_value,
        count(*) as po_lines

    from lines
    group by sku, supplier, expected_month

)

select * from final
