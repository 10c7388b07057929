with

source as (

    select * from {{ source('raw', 'products') }}

),

renamed as (

    select
        sku,
        name as product_name,
        family,
        supplier,
        status,
        unit_cost,
        unit_price,
        lead_time_days,
        moq,
        order_multiple,
        launch_date,
        discontinue_date

    from source

)

select * from renamed
