from netbox.forms import NetBoxModelForm

from .models import ALL_MODELS

SKIP = ('id', 'created', 'last_updated', 'custom_field_data', 'tags')


def form_for(model):
    """A NetBoxModelForm with every editable field of `model` (tags and custom fields come from NetBox)."""
    fields = [f.name for f in model._meta.concrete_fields if f.name not in SKIP and f.editable] + ['tags']
    meta = type('Meta', (), {'model': model, 'fields': fields})
    return type(f'{model.__name__}Form', (NetBoxModelForm,), {'Meta': meta, '__module__': __name__})


FORMS = {model: form_for(model) for model, _ in ALL_MODELS}
