with

source as (

    select * from {{ source('raw', 'inventory') }}

),

renamed as (

    select
        snapshot_date,
        sku,
        location,
        on_hand

    from source

)

select * from renamed
-- Snapshots are counted at the end of their day, so one dated on the cycle start already
-- reflects the cycle's first day of trading and belongs to the next cycle's past.
where snapshot_date < {{ cycle_start() }}
