"""Test stand-in for the Hedgehog NetBox plugin (REST contract only). See ../README.md."""
from netbox.plugins import PluginConfig


class HedgehogConfig(PluginConfig):
    name = 'netbox_hedgehog'
    verbose_name = 'Hedgehog (test stand-in)'
    description = 'Small stand-in for the Hedgehog NetBox plugin, for hnp-sidecar tests'
    version = '0.1.0'
    base_url = 'hedgehog'
    min_version = '4.5.0'


config = HedgehogConfig
