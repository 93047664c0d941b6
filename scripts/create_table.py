"""Creates the DynamoDB table exactly as template.yaml defines it, on the API server at
AWS_ENDPOINT_URL (the tests' moto server)."""
import os
import sys

import boto3
import yaml


class TemplateLoader(yaml.SafeLoader):
    """Reads CloudFormation's short-form tags (!Ref, !Sub, …) as plain values."""


def _any_tag(loader, _suffix, node):
    if isinstance(node, yaml.ScalarNode):
        return loader.construct_scalar(node)
    if isinstance(node, yaml.SequenceNode):
        return loader.construct_sequence(node)
    return loader.construct_mapping(node)


TemplateLoader.add_multi_constructor("!", _any_tag)

template_path = sys.argv[1] if len(sys.argv) > 1 else "template.yaml"
with open(template_path, encoding="utf-8") as f:
    template = yaml.load(f, Loader=TemplateLoader)
props = template["Resources"]["Table"]["Properties"]
name = os.environ["TABLE_NAME"]

client = boto3.client("dynamodb", endpoint_url=os.environ["AWS_ENDPOINT_URL"])
client.create_table(
    TableName=name,
    BillingMode=props["BillingMode"],
    AttributeDefinitions=props["AttributeDefinitions"],
    KeySchema=props["KeySchema"],
    GlobalSecondaryIndexes=props.get("GlobalSecondaryIndexes", []),
    SSESpecification={"Enabled": bool(props.get("SSESpecification", {}).get("SSEEnabled"))},
)
client.get_waiter("table_exists").wait(TableName=name)
ttl = props["TimeToLiveSpecification"]
client.update_time_to_live(
    TableName=name,
    TimeToLiveSpecification={"AttributeName": ttl["AttributeName"], "Enabled": ttl["Enabled"]},
)
if props.get("PointInTimeRecoverySpecification", {}).get("PointInTimeRecoveryEnabled"):
    client.update_continuous_backups(
        TableName=name,
        PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
    )
print(f"table {name} created as template.yaml defines it")
