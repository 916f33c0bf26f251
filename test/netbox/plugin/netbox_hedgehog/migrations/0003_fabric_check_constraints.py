"""The real plugin's database constraints on the fabric table (its migration 0017, RunSQL): Django's models do not
know them, so full_clean() passes and a value outside them fails at the INSERT/UPDATE (IntegrityError, HTTP 500).

valid_sync_status allows synced|syncing|error|never_synced while the model's choices are
never_synced|in_sync|out_of_sync|syncing|error: only never_synced, syncing and error can be stored through REST.
"""
from django.db import migrations

TABLE = 'netbox_hedgehog_hedgehogfabric'
CHECKS = {
    'valid_status': "status IN ('planned', 'active', 'maintenance', 'decommissioned')",
    'valid_connection_status': "connection_status IN ('connected', 'disconnected', 'error', 'unknown')",
    'valid_sync_status': "sync_status IN ('synced', 'syncing', 'error', 'never_synced')",
}


class Migration(migrations.Migration):

    dependencies = [
        ('netbox_hedgehog', '0002_standin_real_plugin_fields'),
    ]

    operations = [
        # Only for test databases made by older stand-ins (no rows on a fresh database): bring their values inside
        # the constraints added below, as the real plugin's data always were.
        migrations.RunSQL(
            sql=[
                f"UPDATE {TABLE} SET sync_status = 'never_synced' WHERE sync_status NOT IN "
                "('synced', 'syncing', 'error', 'never_synced');",
                f"UPDATE {TABLE} SET drift_status = 'in_sync' WHERE drift_status = '';",
            ],
            reverse_sql=migrations.RunSQL.noop,
        ),
        migrations.RunSQL(
            sql=[f'ALTER TABLE {TABLE} ADD CONSTRAINT unique_fabric_name UNIQUE (name);']
            + [f'ALTER TABLE {TABLE} ADD CONSTRAINT {name} CHECK ({check});' for name, check in CHECKS.items()],
            reverse_sql=[f'ALTER TABLE {TABLE} DROP CONSTRAINT IF EXISTS {name};'
                         for name in ('unique_fabric_name', *CHECKS)],
        ),
    ]
