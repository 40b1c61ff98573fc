"""The OpenAPI request bodies of ``POST /images/generations`` and ``POST /images/edits``
(``service.openapi_bodies``): the request models' own schemas, plus what the serving code checks
beyond them (a non-blank prompt, an image model of the catalog, a size ``service.images.sizes``
reads), in the shapes ``service.images.inputs`` reads: JSON, and form fields, with the edit's
image files in multipart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from service.catalog import OutputKind
from service.images.inputs import IMAGE_FIELDS, MAX_EDIT_IMAGES
from service.images.protocol import ImageEditRequest, ImageGenerationRequest
from service.openapi_bodies import (
    FILE,
    FORM,
    JSON,
    MULTIPART,
    NON_BLANK,
    Schema,
    catalog_models,
    form_fields,
    model_schema,
    refine,
    request_body,
)

__all__ = ["EDIT_BODY", "GENERATION_BODY", "SIZE_PATTERN"]

# A side of ``WxH`` as ``service.images.sizes`` reads it: 1 to 5 digits, not all zeros.
_SIDE = r"(?:[1-9][0-9]{0,4}|0[1-9][0-9]{0,3}|00[1-9][0-9]{0,2}|000[1-9][0-9]?|0000[1-9])"
SIZE_PATTERN = rf"^\s*(?:[Aa][Uu][Tt][Oo]|{_SIDE}\s*[xX×]\s*{_SIDE})\s*$"
# A 2x2 PNG: the example edit is one a tool can send as it is.
_EXAMPLE_PNG = (
    "data:image/png;base64,"
    "iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGM8oaHBwMDAxMDAwMDAAAAN6gEcJJUQNAAAAABJRU5ErkJggg=="
)


def _fields(model: type[BaseModel]) -> Schema:
    """The request model's schema, with what the serving code checks beyond the model."""
    schema = model_schema(model)
    fields = schema["properties"]
    fields["prompt"] = refine(fields["prompt"], pattern=NON_BLANK, description="Must not be blank.")
    fields["model"] = refine(fields["model"], **catalog_models(OutputKind.IMAGES))
    fields["size"] = refine(
        fields["size"],
        pattern=SIZE_PATTERN,
        description="`auto` or WIDTHxHEIGHT, told to Gemini as the nearest aspect ratio it accepts.",
    )
    fields["return_origin_image"]["description"] = "The full-size original instead of the page's preview."
    fields["remove_watermark"]["description"] = "Remove Gemini's visible mark (needs calibrated alpha maps)."
    return schema


def _edit_json() -> Schema:
    schema = _fields(ImageEditRequest)
    ref = schema["properties"]["images"]["anyOf"][0]["items"]
    schema["properties"]["images"] = {
        "type": "array",
        "items": ref,
        "minItems": 1,
        "maxItems": MAX_EDIT_IMAGES,
        "description": "The input images as data URLs or http(s) URLs.",
    }
    return {**schema, "required": ["prompt", "images"]}


def _edit_form() -> Schema:
    schema = form_fields(_fields(ImageEditRequest))
    fields = {name: field for name, field in schema["properties"].items() if name != "images"}
    files: Schema = {
        "type": "array",
        "items": FILE,
        "maxItems": MAX_EDIT_IMAGES,
        "description": f"PNG, JPEG, WebP or GIF; at most {MAX_EDIT_IMAGES} images in all.",
    }
    for name in IMAGE_FIELDS:
        fields[name] = files
    # Gemini edits the whole image: a mask is refused, whatever it holds.
    fields["mask"] = {"not": {}, "description": "Not supported: a mask is refused."}
    either = [{"required": [name]} for name in IMAGE_FIELDS]
    return {**schema, "properties": fields, "anyOf": either}


def _bodies() -> tuple[dict[str, Any], dict[str, Any]]:
    generation = _fields(ImageGenerationRequest)
    example = {"prompt": "a lighthouse in watercolour", "size": "1536x1024"}
    generation_body = request_body(
        {JSON: generation, MULTIPART: form_fields(generation), FORM: form_fields(generation)},
        description="JSON (what the openai SDK sends) or form fields; no files.",
        examples={JSON: example},
    )
    edit_example = {"prompt": "make it blue", "images": [{"image_url": _EXAMPLE_PNG}]}
    edit_body = request_body(
        {JSON: _edit_json(), MULTIPART: _edit_form()},
        description="Multipart with image files (what the openai SDK sends), or JSON with image URLs.",
        examples={JSON: edit_example},
    )
    return generation_body, edit_body


GENERATION_BODY, EDIT_BODY = _bodies()
