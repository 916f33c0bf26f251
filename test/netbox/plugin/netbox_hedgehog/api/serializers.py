"""REST serializers. NetBox finds `<Model>Serializer` here by name (webhook bodies, brief mode).

Shaped like the real plugin's: fabric and CR serializers take every model field (`fields='__all__'`, so DRF turns
model choices into ChoiceFields and NetBox runs the model's full_clean() on every write); the Git repository has a
read serializer whose `url` is NetBox's API link (the Git URL is in `repository_info`), and plain DRF create and
update serializers.
"""
from rest_framework import serializers

from netbox.api.serializers import NetBoxModelSerializer

from ..models import CR_MODELS, GitRepository, HedgehogFabric, HedgehogResource

# The stand-in stores no secret; this marks "credentials were given" (has_credentials).
CREDENTIALS_MARK = 'stand-in: credentials given, not stored'


class HedgehogFabricSerializer(NetBoxModelSerializer):
    class Meta:
        model = HedgehogFabric
        fields = '__all__'


FabricSerializer = HedgehogFabricSerializer


class GitRepositorySerializer(NetBoxModelSerializer):
    """Read serializer: `url` here is NetBox's declared API link, not the model's Git URL."""
    connection_summary = serializers.SerializerMethodField()
    dependent_fabrics_count = serializers.ReadOnlyField(source='fabric_count')
    can_delete_info = serializers.SerializerMethodField()
    repository_info = serializers.SerializerMethodField()
    credentials = serializers.DictField(write_only=True, required=False)

    class Meta:
        model = GitRepository
        fields = [
            'id', 'url', 'name', 'provider', 'authentication_type', 'description', 'connection_status',
            'last_validated', 'validation_error', 'default_branch', 'is_private', 'fabric_count', 'created_by',
            'validate_ssl', 'timeout_seconds', 'created', 'last_updated', 'connection_summary',
            'dependent_fabrics_count', 'can_delete_info', 'repository_info', 'credentials',
        ]
        read_only_fields = ['connection_status', 'last_validated', 'validation_error', 'fabric_count', 'created_by',
                            'created', 'last_updated']

    def get_connection_summary(self, obj):
        return obj.connection_summary()

    def get_can_delete_info(self, obj):
        n = obj.dependent_fabrics().count()
        return {'can_delete': n == 0,
                'reason': f'Repository is used by {n} fabric(s)' if n else 'Repository can be safely deleted'}

    def get_repository_info(self, obj):
        return obj.repository_info()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data['has_credentials'] = bool(instance.encrypted_credentials)
        data['dependent_fabrics'] = [{'id': f.id, 'name': f.name} for f in instance.dependent_fabrics()[:10]]
        return data


class GitRepositoryCreateSerializer(serializers.ModelSerializer):
    """POST git-repos-api/: plain DRF (no full_clean); `credentials` is required and checked by auth type."""
    credentials = serializers.DictField(required=True, write_only=True)

    class Meta:
        model = GitRepository
        fields = ['name', 'url', 'provider', 'authentication_type', 'description', 'default_branch', 'is_private',
                  'validate_ssl', 'timeout_seconds', 'credentials']

    def validate_credentials(self, value):
        needs = {'token': ('token',), 'basic': ('username', 'password'), 'ssh_key': ('private_key',)}
        kind = self.initial_data.get('authentication_type', 'token')
        for key in needs.get(kind, ()):
            if not value.get(key):
                raise serializers.ValidationError(f'{key} is required for {kind} authentication')
        return value

    def create(self, validated_data):
        validated_data.pop('credentials')
        validated_data['encrypted_credentials'] = CREDENTIALS_MARK
        validated_data['created_by'] = self.context['request'].user
        return super().create(validated_data)


class GitRepositoryUpdateSerializer(serializers.ModelSerializer):
    """PUT/PATCH git-repos-api/{id}/: only these fields (the Git URL cannot be changed by REST)."""
    credentials = serializers.DictField(required=False, write_only=True)

    class Meta:
        model = GitRepository
        fields = ['name', 'description', 'default_branch', 'validate_ssl', 'timeout_seconds', 'credentials']

    def update(self, instance, validated_data):
        if validated_data.pop('credentials', None) is not None:
            validated_data['encrypted_credentials'] = CREDENTIALS_MARK
        return super().update(instance, validated_data)


class HedgehogCRSerializer(NetBoxModelSerializer):
    fabric = serializers.PrimaryKeyRelatedField(queryset=HedgehogFabric.objects.all())


# One serializer per CR model, named <Model>Serializer (VPCSerializer, SwitchGroupSerializer, ...).
for _model, _path in CR_MODELS:
    _meta = type('Meta', (), {'model': _model, 'fields': '__all__'})
    _name = f'{_model.__name__}Serializer'
    globals()[_name] = type(_name, (HedgehogCRSerializer,), {'Meta': _meta, '__module__': __name__})


class HedgehogResourceSerializer(NetBoxModelSerializer):
    """gitops-resources/: like the real one, every model field (`fields='__all__'`: choices are ChoiceFields, the
    auto_now_add fields last_state_change and first_seen are read-only, content_type is a ContentType id), `fabric`
    an integer id, NetBox's full_clean() (the model's clean()) on every write, and read-only extras."""
    fabric = serializers.PrimaryKeyRelatedField(queryset=HedgehogFabric.objects.all())
    git_file_url = serializers.ReadOnlyField()
    has_drift = serializers.ReadOnlyField()
    has_desired_state = serializers.ReadOnlyField()
    has_actual_state = serializers.ReadOnlyField()
    resource_identifier = serializers.ReadOnlyField()

    class Meta:
        model = HedgehogResource
        fields = '__all__'

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data['gitops_status'] = {
            'drift_summary': instance.get_drift_summary(),
            'has_drift': instance.has_drift,
            'is_orphaned': instance.drift_status == 'actual_only',
            'is_pending_creation': instance.drift_status == 'desired_only',
        }
        return data
