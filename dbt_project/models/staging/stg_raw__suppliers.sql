with

source as (

    select * from {{ source('raw', 'suppliers') }}

),

renamed as (

    select
        supplier,
        name as supplier_name,
        monthly_capacity,
        deposit_share,
        payment_days

    from source

)

select * from renamed
