with

source as (

    select * from {{ source('raw', 'missing_months') }}

),

renamed as (

    select
        sku,
        month,
        reason

    from source

)

select * from renamed
-- Months on or after the cycle start are not history yet: nothing is known or unknown about them.
where month < {{ cycle_start() }}
