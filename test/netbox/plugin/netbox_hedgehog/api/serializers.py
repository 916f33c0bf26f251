"""REST serializers. NetBox finds `<Model>Serializer` here by name (webhook bodies, brief mode)."""
from rest_framework import serializers

from netbox.api.serializers import NetBoxModelSerializer

from ..models import CR_MODELS, GitRepository, HedgehogFabric

BASE_FIELDS = ('id', 'url', 'display_url', 'display', 'tags', 'custom_fields', 'created', 'last_updated')
CR_FIELDS = ('fabric', 'name', 'namespace', 'spec', 'labels', 'annotations', 'kubernetes_status', 'last_applied',
             'last_synced', 'sync_error', 'git_file_path', 'auto_sync')


class GitRepositorySerializer(NetBoxModelSerializer):
    # The model's own `url` field (the Git URL) replaces NetBox's API link of that name.
    url = serializers.CharField(max_length=500)

    class Meta:
        model = GitRepository
        fields = BASE_FIELDS + ('name', 'default_branch')
        brief_fields = ('id', 'url', 'display', 'name')


class HedgehogFabricSerializer(NetBoxModelSerializer):
    git_repository = serializers.PrimaryKeyRelatedField(queryset=GitRepository.objects.all(), allow_null=True,
                                                        required=False)

    class Meta:
        model = HedgehogFabric
        fields = BASE_FIELDS + tuple(
            f.name for f in HedgehogFabric._meta.concrete_fields
            if f.name not in ('id', 'created', 'last_updated', 'custom_field_data')
        )
        brief_fields = ('id', 'url', 'display', 'name')


class HedgehogCRSerializer(NetBoxModelSerializer):
    fabric = serializers.PrimaryKeyRelatedField(queryset=HedgehogFabric.objects.all())
    # Upstream quirk (DESIGN.md §4): `url` is the integer pk, not a link.
    url = serializers.IntegerField(source='pk', read_only=True)


# One serializer per CR model, named <Model>Serializer (VPCSerializer, SwitchGroupSerializer, ...).
for _model, _path in CR_MODELS:
    _meta = type('Meta', (), {'model': _model, 'fields': BASE_FIELDS + CR_FIELDS,
                              'brief_fields': ('id', 'url', 'display', 'name')})
    _name = f'{_model.__name__}Serializer'
    globals()[_name] = type(_name, (HedgehogCRSerializer,), {'Meta': _meta, '__module__': __name__})
