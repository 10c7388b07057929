with

source as (

    select * from {{ source('raw', 'events') }}

),

renamed as (

    select
        event_id,
        event_type,
        sku,
        family,
        channel,
        start_date,
        end_date,
        uplift_pct,
        description as event_description

    from source

)

select * from renamed
