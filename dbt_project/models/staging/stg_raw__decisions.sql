with

source as (

    select * from {{ source('raw', 'decisions') }}

),

renamed as (

    select
        decision_id,
        cycle,
        decision,
        owner,
        due_date,
        status,
        sku,
        family,
        exception_type

    from source

)

select * from renamed
