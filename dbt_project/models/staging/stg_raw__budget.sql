with

source as (

    select * from {{ source('raw', 'budget') }}

),

renamed as (

    select
        month,
        family,
        revenue_target

    from source

)

select * from renamed
