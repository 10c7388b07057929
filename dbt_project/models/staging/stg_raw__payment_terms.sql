with

source as (

    select * from {{ source('raw', 'payment_terms') }}

),

renamed as (

    select
        channel,
        collection_days

    from source

)

select * from renamed
