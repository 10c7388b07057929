with

source as (

    select * from {{ source('raw', 'overrides') }}

),

renamed as (

    select
        cycle,
        sku,
        family,
        month,
        quantity,
        percent,
        reason,
        owner

    from source

)

select * from renamed
