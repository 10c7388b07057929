with

source as (

    select * from {{ source('raw', 'approvals') }}

),

renamed as (

    select
        cycle,
        scenario,
        approved_by,
        approved_on,
        note

    from source

)

select * from renamed
