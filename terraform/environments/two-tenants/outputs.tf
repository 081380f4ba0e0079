output "buses" {
  description = "Each tenant's bus, by account: the [accounts.<id>] bus of the ecomm config file."
  value = {
    (var.tenant_accounts["brand-a"]) = module.brand_a.event_bus_name
    (var.tenant_accounts["brand-b"]) = module.brand_b.event_bus_name
  }
}
