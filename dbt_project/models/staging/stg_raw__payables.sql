with

source as (

    select * from {{ source('raw', 'payables') }}

),

renamed as (

    select
        due_date,
        description,
        amount

    from source

)

select * from renamed
