/* Placeholder for a layer that has no module yet. */
extern int lk_empty_translation_unit;
int lk_empty_translation_unit;
