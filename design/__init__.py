"""Pure design logic: names, IAM documents, address plans. No Pulumi imports, so the program,
the policy pack and the tests share one implementation of each rule."""
