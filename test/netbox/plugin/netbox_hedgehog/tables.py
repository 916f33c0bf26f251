import django_tables2 as tables

from netbox.tables import NetBoxTable, columns

from .models import ALL_MODELS, HedgehogCR

SKIP = ('custom_field_data', 'spec', 'raw_spec', 'labels', 'annotations', 'watch_crd_types', 'kubernetes_token',
        'kubernetes_ca_cert', 'git_token', 'argocd_admin_password', 'encrypted_credentials')


def table_for(model):
    fields = ['pk', 'id'] + [f.name for f in model._meta.concrete_fields if f.name not in SKIP + ('id',)] + ['tags']
    if issubclass(model, HedgehogCR):
        default = ('name', 'fabric', 'namespace', 'kubernetes_status', 'last_updated')
    else:
        default = ('name', 'last_updated')
    meta = type('Meta', (NetBoxTable.Meta,), {'model': model, 'fields': fields, 'default_columns': default})
    attrs = {
        'Meta': meta,
        '__module__': __name__,
        'name': tables.Column(linkify=True),
        'tags': columns.TagColumn(),
    }
    if issubclass(model, HedgehogCR):
        attrs['fabric'] = tables.Column(linkify=True)
    return type(f'{model.__name__}Table', (NetBoxTable,), attrs)


TABLES = {model: table_for(model) for model, _ in ALL_MODELS}
