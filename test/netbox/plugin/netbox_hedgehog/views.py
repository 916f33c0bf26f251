"""Generic NetBox UI views (list, detail, add/edit, delete, bulk delete) for every model of the plugin."""
from django.db import models

from extras.ui.panels import CustomFieldsPanel, TagsPanel
from netbox.object_actions import AddObject, BulkDelete, BulkExport
from netbox.ui import attrs, layout, panels
from netbox.views import generic
from utilities.views import register_model_view

from .forms import FORMS
from .models import ALL_MODELS, GitRepository
from .tables import TABLES

HIDDEN = ('id', 'created', 'last_updated', 'custom_field_data')


def attributes_panel(model):
    """An ObjectAttributesPanel listing every non-JSON field of `model`."""
    ns = {}
    for f in model._meta.concrete_fields:
        if f.name in HIDDEN or isinstance(f, models.JSONField):
            continue
        if isinstance(f, models.ForeignKey):
            ns[f.name] = attrs.RelatedObjectAttr(f.name, linkify=hasattr(f.related_model, 'get_absolute_url'))
        elif isinstance(f, models.BooleanField):
            ns[f.name] = attrs.BooleanAttr(f.name)
        elif f.choices:
            ns[f.name] = attrs.ChoiceAttr(f.name)
        elif isinstance(f, models.DateTimeField):
            ns[f.name] = attrs.DateTimeAttr(f.name)
        else:
            ns[f.name] = attrs.TextAttr(f.name)
    return type(f'{model.__name__}Panel', (panels.ObjectAttributesPanel,), ns)()


def register_views(model):
    queryset = model.objects.all()
    json_panels = [panels.JSONPanel(f.name, title=f.name) for f in model._meta.concrete_fields
                   if isinstance(f, models.JSONField) and f.name != 'custom_field_data']

    class ListView(generic.ObjectListView):
        table = TABLES[model]
        actions = (AddObject, BulkExport, BulkDelete)

    class DetailView(generic.ObjectView):
        template_name = 'generic/object.html'
        layout = layout.SimpleLayout(
            left_panels=[attributes_panel(model), TagsPanel()],
            right_panels=[*json_panels, CustomFieldsPanel()],
        )

    class EditView(generic.ObjectEditView):
        form = FORMS[model]

        def alter_object(self, obj, request, url_args, url_kwargs):
            # A Git repository records who added it (the REST viewset shows non-superusers only their own).
            if model is GitRepository and obj.pk is None:
                obj.created_by = request.user
            return obj

    class DeleteView(generic.ObjectDeleteView):
        pass

    class BulkDeleteView(generic.BulkDeleteView):
        table = TABLES[model]

    for view in (ListView, DetailView, EditView, DeleteView, BulkDeleteView):
        view.queryset = queryset
    register_model_view(model, 'list', path='', detail=False)(ListView)
    register_model_view(model)(DetailView)
    register_model_view(model, 'add', detail=False)(EditView)
    register_model_view(model, 'edit')(EditView)
    register_model_view(model, 'delete')(DeleteView)
    register_model_view(model, 'bulk_delete', path='delete', detail=False)(BulkDeleteView)


for _model, _ in ALL_MODELS:
    register_views(_model)
