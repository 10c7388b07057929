with

source as (

    select * from {{ source('raw', 'cash_position') }}

),

renamed as (

    select
        as_of,
        opening_cash,
        coalesce(credit_line, 0) as credit_line

    from source

)

select * from renamed
