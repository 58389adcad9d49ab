"""Tests of the PDF adapter: conversion, sanitising, merge fields, anchor tags."""
