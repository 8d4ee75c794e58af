"""Admin pages for browsing what ``./dev demo`` migrated and seeded."""

from __future__ import annotations

from django.contrib import admin

from example_project.shop.models import AuditLog, Customer, Order, Product


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["email_address", "full_name", "phone", "created_at"]
    search_fields = ["email_address", "full_name"]


@admin.register(Product)
class ProductAdmin(admin.ModelAdmin):
    list_display = ["name", "price_cents"]


@admin.register(Order)
class OrderAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "product", "total_cents", "status", "created_at"]
    list_filter = ["status"]
    list_select_related = ["customer"]


@admin.register(AuditLog)
class AuditLogAdmin(admin.ModelAdmin):
    list_display = ["action", "customer", "created_at"]
    list_filter = ["action"]
    list_select_related = ["customer"]
