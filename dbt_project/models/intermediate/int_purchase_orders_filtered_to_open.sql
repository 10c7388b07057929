with

purchase_orders as (

    select * from {{ ref('stg_raw__purchase_orders') }}

),

-- The extract shows today's status. A line received on or after the cycle start was still open
-- at the cycle (its receipt is later news), so it counts as open with nothing received yet; the
-- latest receipt date stands for all of the line's receipts. Cancellations carry no date and
-- are taken as they stand.
as_at_cycle as (

    select
        *,
        coalesce(received_date >= {{ cycle_start() }}, false) as received_after_cycle

    from purchase_orders

),

open_lines as (

    select
        po_id,
        sku,
        case when received_after_cycle then 'open' else status end as status,
        order_date,
        expected_date,
        quantity - case when received_after_cycle then 0 else received_quantity end as open_units,
        unit_cost,
        expected_date < {{ cycle_start() }} as is_overdue

    from as_at_cycle
    where status in ('open', 'partial') or (status = 'received' and received_after_cycle)

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
