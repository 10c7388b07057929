with

source as (

    select * from {{ source('raw', 'sales') }}

),

renamed as (

    select
        {{ adapter.quote('date') }} as order_date,
        sku,
        channel,
        quantity,
        net_revenue,
        customer,
        order_id

    from source

)

select * from renamed
-- The cycle cutoff: the cycle plans with actuals up to the end of the previous month, so a
-- backfilled cycle sees exactly what its planners saw, not later sales.
where order_date < {{ cycle_start() }}
