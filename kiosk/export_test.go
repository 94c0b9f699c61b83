package kiosk

// ShapeArabic exposes shapeArabic to the package's external tests, which compare printed text with it.
var ShapeArabic = shapeArabic
