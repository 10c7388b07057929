with

source as (

    select * from {{ source('raw', 'opex') }}

),

renamed as (

    select
        month,
        category,
        amount

    from source

)

select * from renamed
