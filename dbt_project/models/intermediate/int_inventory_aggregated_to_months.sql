with

snapshots as (

    select
        sku,
        snapshot_date,
        {{ month_start('snapshot_date') }} as month,
        on_hand

    from {{ ref('stg_raw__inventory') }}

),

sku_snapshots as (

    select
        sku,
        snapshot_date,
        month,
        sum(on_hand) as on_hand

    from snapshots
    group by sku, snapshot_date, month

),

latest_in_month as (

    select
        sku,
        month,
        max(snapshot_date) as snapshot_date

    from sku_snapshots
    group by sku, month

),

month_end_stock as (

    select
        latest_in_month.sku,
        latest_in_month.month,
        latest_in_month.snapshot_date,
        sku_snapshots.on_hand,
        -- The month's last count stands for its end: stock that ran out and was refilled within
        -- the month is not visible in monthly snapshots, so only an empty last count flags it.
        sku_snapshots.on_hand <= 0 as is_stockout

    from latest_in_month
    inner join sku_snapshots
        on sku_snapshots.sku = latest_in_month.sku
        and sku_snapshots.snapshot_date = latest_in_month.snapshot_date

)

select * from month_end_stock
