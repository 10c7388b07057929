with

purchase_orders as (

    select * from {{ ref('stg_raw__purchase_orders') }}

),

open_lines as (

    select
        po_id,
        sku,
        status,
        order_date,
        expected_date,
        quantity - received_quantity as open_units,
        unit_cost,
        expected_date < {{ cycle_start() }} as is_overdue

    from purchase_orders
    where status in ('open', 'partial')

)

select
    po_id,
    sku,
    status,
    order_date,
    expected_date,
    open_units,
    unit_cost,
    open_units * unit_cost as open_value,
    is_overdue

from open_lines
-- Over-received lines (received more than ordered) have nothing left to arrive.
where open_units > 0
