resource "google_storage_bucket_object" "files" {
  for_each     = var.files
  bucket       = var.composer.dag_bucket
  name         = local.dag_prefix == "" ? each.key : "${local.dag_prefix}/${each.key}"
  source       = each.value
  content_type = try(local.content_types[lower(regex("\\.([^./]+)$", each.key)[0])], "text/plain")
  # Changing the file's content changes the hash, which makes Terraform upload it again.
  source_md5hash = filemd5(each.value)

  lifecycle {
    precondition {
      condition     = var.composer != null
      error_message = "files are uploaded to Composer's DAG bucket: set composer."
    }
  }
}
