with

source as (

    select * from {{ source('raw', 'purchase_orders') }}

),

renamed as (

    select
        po_id,
        sku,
        status,
        order_date,
        expected_date,
        quantity,
        received_quantity,
        received_date,
        unit_cost

    from source

)

select * from renamed
-- A PO placed on or after the cycle start did not exist when the cycle was planned; its
-- (future) expected date is kept, since expected dates are plans, not actuals.
where order_date < {{ cycle_start() }}
