from netbox.forms import NetBoxModelForm

from .models import CR_MODELS, GitRepository, HedgehogFabric, HedgehogResource

SKIP = ('id', 'created', 'last_updated', 'custom_field_data', 'tags')

# The real plugin's fabric form (forms/fabric.py, FabricForm) offers only these fields. watch_crd_types is not among
# them, so a fabric made in the UI keeps its default [] and then answers 400 to every REST write.
FABRIC_FORM_FIELDS = ('name', 'description', 'status', 'kubernetes_server', 'kubernetes_namespace',
                      'kubernetes_token', 'kubernetes_ca_cert', 'git_repository', 'gitops_directory', 'sync_enabled',
                      'sync_interval', 'watch_enabled')
GIT_REPOSITORY_FORM_FIELDS = ('name', 'url', 'provider', 'authentication_type', 'description', 'default_branch',
                              'is_private', 'validate_ssl', 'timeout_seconds')


def form_for(model, fields=None):
    """A NetBoxModelForm with `fields` (default: every editable field of `model`); tags come from NetBox."""
    if fields is None:
        fields = tuple(f.name for f in model._meta.concrete_fields if f.name not in SKIP and f.editable)
    meta = type('Meta', (), {'model': model, 'fields': list(fields) + ['tags']})
    return type(f'{model.__name__}Form', (NetBoxModelForm,), {'Meta': meta, '__module__': __name__})


FORMS = {HedgehogFabric: form_for(HedgehogFabric, FABRIC_FORM_FIELDS),
         GitRepository: form_for(GitRepository, GIT_REPOSITORY_FORM_FIELDS)}
FORMS.update({model: form_for(model) for model, _ in CR_MODELS})
FORMS[HedgehogResource] = form_for(HedgehogResource)
