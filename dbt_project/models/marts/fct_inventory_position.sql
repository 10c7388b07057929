with

products as (

    select sku from {{ ref('stg_raw__products') }}

),

counts as (

    select sku, location, snapshot_date, on_hand from {{ ref('stg_raw__inventory') }}

),

open_lines as (

    select * from {{ ref('int_purchase_orders_filtered_to_open') }}

),

-- Each location's own latest count of the SKU: locations are often counted on different days.
latest_per_location as (

    select
        sku,
        location,
        max(snapshot_date) as snapshot_date

    from counts
    group by sku, location

),

location_latest as (

    select
        location,
        max(snapshot_date) as location_snapshot_date

    from counts
    group by location

),

-- A SKU missing from its location's newest count may have run empty (exports often leave out
-- empty shelves) or may be cycle-counted on another day: its last count is used and flagged.
stock as (

    select
        latest_per_location.sku,
        max(latest_per_location.snapshot_date) as snapshot_date,
        sum(counts.on_hand) as on_hand,
        max(
            case when latest_per_location.snapshot_date < location_latest.location_snapshot_date then 1 else 0 end
        ) = 1 as has_stale_count

    from latest_per_location
    inner join counts
        on counts.sku = latest_per_location.sku
        and counts.location = latest_per_location.location
        and counts.snapshot_date = latest_per_location.snapshot_date
    inner join location_latest
        on location_latest.location = latest_per_location.location
    group by latest_per_location.sku

),

open_supply as (

    select
        sku,
        sum(open_units) as open_po_units,
        sum(case when is_overdue then open_units else 0 end) as late_po_units

    from open_lines
    group by sku

),

position as (

    select
        products.sku,
        stock.snapshot_date,
        coalesce(stock.on_hand, 0) as on_hand,
        coalesce(stock.has_stale_count, false) as has_stale_count,
        coalesce(open_supply.open_po_units, 0) as open_po_units,
        coalesce(open_supply.late_po_units, 0) as late_po_units

    from products
    left join stock
        on stock.sku = products.sku
    left join open_supply
        on open_supply.sku = products.sku

),

final as (

    select
        {{ cycle_start() }} as cycle,
        sku,
        snapshot_date,
        on_hand,
        has_stale_count,
        open_po_units,
        late_po_units,
        on_hand + open_po_units as inventory_position

    from position

)

select * from final
