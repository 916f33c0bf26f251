import django_tables2 as tables

from netbox.tables import NetBoxTable, columns

from .models import ALL_MODELS, HedgehogCR, HedgehogResource

SKIP = ('custom_field_data', 'spec', 'raw_spec', 'labels', 'annotations', 'watch_crd_types', 'kubernetes_token',
        'kubernetes_ca_cert', 'git_token', 'argocd_admin_password', 'encrypted_credentials', 'desired_spec', 'draft_spec',
        'actual_spec', 'actual_status', 'drift_details', 'relationship_metadata')


def table_for(model):
    fields = ['pk', 'id'] + [f.name for f in model._meta.concrete_fields if f.name not in SKIP + ('id',)] + ['tags']
    if issubclass(model, HedgehogCR):
        default = ('name', 'fabric', 'namespace', 'kubernetes_status', 'last_updated')
    elif model is HedgehogResource:
        default = ('name', 'kind', 'fabric', 'namespace', 'resource_state', 'drift_status', 'desired_commit',
                   'last_updated')
    else:
        default = ('name', 'last_updated')
    meta = type('Meta', (NetBoxTable.Meta,), {'model': model, 'fields': fields, 'default_columns': default})
    attrs = {
        'Meta': meta,
        '__module__': __name__,
        'name': tables.Column(linkify=True),
        'tags': columns.TagColumn(),
    }
    if issubclass(model, HedgehogCR) or model is HedgehogResource:
        attrs['fabric'] = tables.Column(linkify=True)
    return type(f'{model.__name__}Table', (NetBoxTable,), attrs)


TABLES = {model: table_for(model) for model, _ in ALL_MODELS}
