with

products as (

    select sku from {{ ref('stg_raw__products') }}

),

month_end_stock as (

    select * from {{ ref('int_inventory_aggregated_to_months') }}

),

open_lines as (

    select * from {{ ref('int_purchase_orders_filtered_to_open') }}

),

latest_snapshot as (

    select
        sku,
        max(snapshot_date) as snapshot_date

    from month_end_stock
    group by sku

),

stock as (

    select
        latest_snapshot.sku,
        latest_snapshot.snapshot_date,
        month_end_stock.on_hand

    from latest_snapshot
    inner join month_end_stock
        on month_end_stock.sku = latest_snapshot.sku
        and month_end_stock.snapshot_date = latest_snapshot.snapshot_date

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
        open_po_units,
        late_po_units,
        on_hand + open_po_units as inventory_position

    from position

)

select * from final
